/**
 * Queue consumers. `reelay-transcode`: hand each job to a transcoder and ack
 * only once it is accepted; otherwise retry with exponential backoff (the
 * queue retries a message, not the batch, because each one is acked or
 * retried explicitly). After the last retry the message lands in
 * `reelay-transcode-dlq`, whose consumer marks the video failed.
 *
 * A transcoder that answers 503 (every slot or container busy) has not
 * failed: the message is acked and the video's Durable Object offers the job
 * again a few seconds later, so a burst of uploads waits its turn instead of
 * exhausting its retries.
 *
 * A message naming a span (sent by the span scheduler when the span's turn
 * comes) is acked once the video's object knows how its hand-off went: the
 * object retries spans itself, and the dead-letter consumer ignores them.
 * A message naming a package task (the downloads of a complete ladder, sent
 * by the video's object itself) is handled the same way.
 */
import { readConfig, type Config } from "../config.ts";
import type { JobSpec, PackageTask, SpanTask } from "../contracts/job.ts";
import { videoObject } from "../video-object/stub.ts";
import { backoffSeconds, type PackageRef, type SpanRef, TranscodeJobSchema } from "../video-object/transcode-queue.ts";
import { signJobToken } from "../contracts/job-token.ts";
import { taskName, transcoderFor, workerUrlFor } from "./transcoder.ts";

/** Job tokens outlive any sane transcode of a 50 GiB source. */
const JOB_TOKEN_TTL_MS = 12 * 3600 * 1000;

export async function consumeTranscodeJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = readConfig(env);
  for (const msg of batch.messages) {
    const parsed = TranscodeJobSchema.safeParse(msg.body);
    if (!parsed.success) {
      console.error("dropping a malformed transcode message", parsed.error.issues);
      msg.ack();
      continue;
    }
    const { videoId, attempt, span, package: pkg } = parsed.data;
    const video = videoObject(env, videoId);
    if (span || pkg) {
      const handOff = span ? handOffSpan(env, config, videoId, span) : handOffPackage(env, config, videoId, pkg!);
      await handOff.then(
        () => msg.ack(),
        (err: unknown) => {
          console.error(`hand-off of ${videoId} ${span ? `span ${span.index}` : "package task"} failed`, err);
          msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
        },
      );
      continue;
    }
    try {
      const start = await video.startJob(attempt);
      if (!start.start) {
        msg.ack();
        continue;
      }
      const handOff = await transcoderFor(env, config, start.jobId).submit(
        await jobSpec(config, videoId, start.jobId, attempt),
      );
      const busy = handOff.status === 503;
      await video.handedOff(start.jobId, handOff.accepted ? "accepted" : busy ? "busy" : "refused");
      if (handOff.accepted || busy) {
        msg.ack();
      } else {
        console.warn(`transcoder refused ${videoId}/${start.jobId}: ${handOff.status} ${handOff.reason}`);
        msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
      }
    } catch (err) {
      console.error(`hand-off of ${videoId} failed`, err);
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    }
  }
}

/**
 * A span's try to a transcoder. Its own retries are the video's Durable
 * Object's (a busy transcoder, a refusal, a try that fails or falls silent):
 * the message is done once the object knows how the hand-off went.
 */
async function handOffSpan(env: Env, config: Config, videoId: string, span: SpanRef): Promise<void> {
  const video = videoObject(env, videoId);
  const start = await video.startSpan(span);
  if (!start.start) return;
  const spec = await jobSpec(config, videoId, span.jobId, start.jobAttempt, { span: start.task });
  const handOff = await transcoderFor(env, config, taskName(span.jobId, start.task)).submit(spec);
  const busy = handOff.status === 503;
  if (!handOff.accepted && !busy)
    console.warn(`transcoder refused ${videoId}/${span.jobId} span ${span.index}: ${handOff.status} ${handOff.reason}`);
  await video.spanHandedOff(span, handOff.accepted ? "accepted" : busy ? "busy" : "refused");
}

/**
 * What a package task's transcoder is known by: beside its job's, so it gets
 * a container of its own. It runs in a transcoder's span slots (background
 * work no viewer waits for) but is handed off here, not by the span
 * scheduler: one short task per video, a copy and no encode, and a span
 * that finds its slot taken is answered busy and offered again.
 */
export const packageTaskName = (jobId: string, attempt: number) => `${taskName(jobId)}-p${attempt}`;

/** A package try to a transcoder; its retries are the video's object's, as a span's are. */
async function handOffPackage(env: Env, config: Config, videoId: string, ref: PackageRef): Promise<void> {
  const video = videoObject(env, videoId);
  const start = await video.startPackage(ref);
  if (!start.start) return;
  const spec = await jobSpec(config, videoId, ref.jobId, start.jobAttempt, { package: start.task });
  const handOff = await transcoderFor(env, config, packageTaskName(ref.jobId, ref.attempt)).submit(spec);
  const busy = handOff.status === 503;
  if (!handOff.accepted && !busy)
    console.warn(`transcoder refused ${videoId}/${ref.jobId} package task: ${handOff.status} ${handOff.reason}`);
  await video.packageHandedOff(ref, handOff.accepted ? "accepted" : busy ? "busy" : "refused");
}

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const parsed = TranscodeJobSchema.safeParse(msg.body);
    // A span's or package task's message is only ever retried for an unreachable object: its own retries stand behind it.
    if (parsed.success && !parsed.data.span && !parsed.data.package) {
      await videoObject(env, parsed.data.videoId).failProcessing(
        "No transcoder could take the job after repeated tries; processing failed. The source is kept.",
      );
    }
    msg.ack();
  }
}

/**
 * The job as the transcoder gets it: its URLs lie under the Worker as that
 * transcoder reaches it (transcoder.ts `workerUrlFor`): `PUBLIC_URL` for the
 * local process, the internal origin a container's requests are answered on.
 */
async function jobSpec(
  config: Config,
  videoId: string,
  jobId: string,
  attempt: number,
  task: { span?: SpanTask; package?: PackageTask } = {},
): Promise<JobSpec> {
  const { span, package: pkg } = task;
  const workerUrl = workerUrlFor(config);
  if (!config.transcoderSecret || !workerUrl) {
    throw new Error(
      config.transcoderUrl
        ? "TRANSCODER_SECRET and PUBLIC_URL must be configured to hand jobs to the transcoder at TRANSCODER_URL"
        : "TRANSCODER_SECRET must be configured to hand jobs to a transcoder",
    );
  }
  const token = await signJobToken(config.transcoderSecret, {
    videoId,
    jobId,
    exp: Date.now() + JOB_TOKEN_TTL_MS,
    ...(span ? { span: { index: span.index, attempt: span.attempt } } : {}),
    ...(pkg ? { package: { attempt: pkg.attempt } } : {}),
  });
  const base = `${workerUrl.replace(/\/$/, "")}/internal/jobs/${jobId}`;
  return {
    jobId,
    videoId,
    attempt,
    sourceUrl: `${base}/source`,
    uploadBaseUrl: `${base}/files`,
    callbackUrl: `${base}/events`,
    token,
    ...(span ? { span } : {}),
    ...(pkg ? { package: pkg } : {}),
  };
}
