// The transcoder on the real stack (`npm start`) against the attacks of issue 10: its job
// secret must not be readable from any process's command line, its port must answer on
// loopback only and take no job the worker did not sign, and an uploaded HLS playlist
// naming a file of this host must fail without publishing that file.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOT_ACCEPTED_REASON } from "../../transcoder/input-formats.ts";
import { ffmpeg, processesNaming } from "../../transcoder/testing/media.ts";
import { VideoSchema, type Video } from "../../worker/contracts/video.ts";
import { signJobToken } from "../../worker/contracts/job-token.ts";
import { upload } from "../../web/src/upload-client.ts";
import { storedKeys } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-guard-"));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The transcoder's own `server.listening` log line. */
function transcoderListening(): { port: number; address: string } {
  const line = stack
    .output()
    .split("\n")
    .find((l) => l.includes('"server.listening"'));
  if (!line) throw new Error(`no server.listening line in:\n${stack.output()}`);
  return JSON.parse(line.slice(line.indexOf("{")));
}

const secretsFile = () => join(stack.stateDir, "dev-secrets.env");

async function theSecret(): Promise<string> {
  const match = /^TRANSCODER_SECRET=(.+)$/m.exec(await readFile(secretsFile(), "utf8"));
  if (!match) throw new Error("no TRANSCODER_SECRET in the env file");
  return match[1];
}

describe("the transcoder on the real stack", () => {
  it("keeps its job secret off every command line, in a file only its user can read", async () => {
    const secret = await theSecret();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await stat(secretsFile())).mode & 0o777).toBe(0o600);
    expect(processesNaming(secret)).toEqual([]);
  });

  it("answers on loopback only, and refuses a job the worker did not sign", async () => {
    const { port, address } = transcoderListening();
    expect(address).toBe("127.0.0.1");
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (outside) {
      const reached = await fetch(`http://${outside}:${port}/health`).then(
        () => true,
        () => false,
      );
      expect(reached, `the transcoder answered on ${outside}`).toBe(false);
    }

    const job = (token: string) => ({
      jobId: "forged-job",
      videoId: "forged-video",
      attempt: 1,
      sourceUrl: `${stack.url}/internal/jobs/forged-job/source`,
      uploadBaseUrl: `${stack.url}/internal/jobs/forged-job/files`,
      callbackUrl: `${stack.url}/internal/jobs/forged-job/events`,
      token,
    });
    const post = (body: unknown) =>
      fetch(`http://127.0.0.1:${port}/jobs`, { method: "POST", body: JSON.stringify(body) });
    const forged = await signJobToken("a-guess-at-the-secret-0123456789", {
      videoId: "forged-video",
      jobId: "forged-job",
      exp: Date.now() + 60_000,
    });
    const refused = await post(job(forged));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("invalid_token");

    // Even with the secret, a job that would deliver elsewhere is refused.
    const signed = await signJobToken(await theSecret(), {
      videoId: "forged-video",
      jobId: "forged-job",
      exp: Date.now() + 60_000,
    });
    const elsewhere = await post({ ...job(signed), callbackUrl: "http://127.0.0.1:9/collect" });
    expect(elsewhere.status).toBe(400);
    expect(stack.output()).not.toContain('"jobId":"forged-job"');
  });

  it("fails an uploaded HLS playlist naming a file of this host, and publishes nothing", async () => {
    const hostFiles = await mkdtemp(join(dir, "host-"));
    const local = join(hostFiles, "private.ts");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", local]);
    const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${local}\n#EXT-X-ENDLIST\n`;
    await writeFile(join(dir, "playlist.m3u8"), playlist);
    const up = await upload({
      endpoint: stack.url,
      file: new Blob([playlist]),
      filename: "playlist.m3u8",
      contentType: "application/octet-stream",
      title: "Not a video",
    });
    let video: Video;
    for (const deadline = Date.now() + 120_000; ; ) {
      video = VideoSchema.parse(await (await fetch(`${stack.url}/api/videos/${up.videoId}`)).json());
      if (video.status === "failed" || video.status === "ready") break;
      if (Date.now() > deadline) throw new Error(`still ${video.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(video.status).toBe("failed");
    expect(video.error).toBe(NOT_ACCEPTED_REASON);
    expect(video.playback).toEqual({
      hls: null,
      poster: null,
      thumbnail: null,
      storyboard: null,
      download: null,
      audioDownload: null,
    });
    // Only the uploaded source is stored: no job wrote a single file.
    expect(storedKeys(stack.stateDir, `videos/${up.videoId}/`)).toEqual([`videos/${up.videoId}/source`]);
  });
});
