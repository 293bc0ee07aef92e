/**
 * The transcoder as the worker tests' queue consumer sees it: a Node HTTP
 * server speaking the real transcoder's `POST /jobs` contract
 * (transcoder/server.ts): the body is read by the transcoder's own
 * `readJobSpec` (400 `invalid_request` otherwise), then the job is
 * accepted with 202 or refused with 503 `transcoder_busy` or 500
 * `internal_error`, codes and statuses from the error catalogue.
 *
 * Which answer a video's hand-offs get is scripted by the test that owns the
 * video, so test files running side by side do not steer each other:
 *   PUT /stand-in/videos/:videoId/answers  [202, 503, …]  the next answers, in order
 *   GET /stand-in/videos/:videoId/jobs                    the job requests received
 * A video with no answer left finds the transcoder down (the connection is
 * dropped), which is what every other worker test expects of a hand-off.
 *
 * Started once per run as the worker project's globalSetup; its address
 * reaches the worker as TRANSCODER_URL and the tests through `inject`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { readBody, readJobSpec, refuse, send } from "../transcoder/server.ts";
import type { JobSpec } from "../worker/contracts/job.ts";

declare module "vitest" {
  export interface ProvidedContext {
    transcoderUrl: string;
  }
}

export type Answer = 202 | 500 | 503;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const answers = new Map<string, Answer[]>();
  const received = new Map<string, JobSpec[]>();

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const job = await readJobSpec(req, res);
    if (!job) return;
    const answer = answers.get(job.videoId)?.shift();
    if (answer === undefined) return void res.destroy();
    received.set(job.videoId, [...(received.get(job.videoId) ?? []), job]);
    if (answer === 202) return send(res, 202, { accepted: true, jobId: job.jobId });
    if (answer === 503) return refuse(res, "transcoder_busy", "Already running 1 of 1 jobs.");
    refuse(res, "internal_error", "Internal error.");
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://stand-in").pathname;
    const video = /^\/stand-in\/videos\/([^/]+)\/(answers|jobs)$/.exec(path);
    const handle = async () => {
      if (path === "/jobs" && req.method === "POST") return submit(req, res);
      if (video?.[2] === "answers" && req.method === "PUT") {
        answers.set(video[1]!, JSON.parse((await readBody(req)) ?? "[]") as Answer[]);
        return void res.writeHead(204).end();
      }
      if (video?.[2] === "jobs" && req.method === "GET") return send(res, 200, received.get(video[1]!) ?? []);
      refuse(res, "not_found", "No such endpoint.");
    };
    handle().catch((e: unknown) => {
      if (!res.headersSent) refuse(res, "internal_error", String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  project.provide("transcoderUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
