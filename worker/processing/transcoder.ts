/**
 * One interface to the transcoder, two transports: locally (`npm start`,
 * tests) a plain Node process over HTTP at `TRANSCODER_URL`; in production a
 * Cloudflare Container, one instance per job so each video's processing has
 * a single owner. Both speak the same `POST /jobs`.
 */
import type { Config } from "../config.ts";
import type { JobSpec } from "../contracts/job.ts";

export type HandOff = { accepted: boolean; status: number; reason: string };

export type Transcoder = { submit(job: JobSpec): Promise<HandOff> };

type Fetcher = (request: Request) => Promise<Response>;

function overHttp(fetcher: Fetcher, base: string): Transcoder {
  return {
    async submit(job) {
      try {
        const res = await fetcher(
          new Request(new URL("/jobs", base), {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(job),
            signal: AbortSignal.timeout(30_000),
          }),
        );
        const text = await res.text();
        return { accepted: res.status === 202, status: res.status, reason: text.slice(0, 300) };
      } catch (err) {
        return { accepted: false, status: 0, reason: (err as Error).message };
      }
    },
  };
}

export function transcoderFor(env: Env, config: Config, jobId: string): Transcoder {
  if (config.transcoderUrl) return overHttp((req) => fetch(req), config.transcoderUrl);
  const container = env.TRANSCODER.getByName(jobId);
  return overHttp((req) => container.fetch(req), "http://transcoder.internal");
}
