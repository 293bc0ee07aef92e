/**
 * Requests `fetch` will not send: a forged `Host` header, and a JSON body
 * streamed without `Content-Length`, slowly, far past the API's limit. Both
 * go over a raw `node:http` request.
 */
import { request } from "node:http";

export type RawAnswer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** One request with exactly these headers (`Host` included), answered in full. */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export type StreamedAnswer = RawAnswer & { sentBytes: number; totalBytes: number };

/**
 * POSTs a JSON body of `totalBytes` in chunked transfer encoding, a piece of
 * `pieceBytes` every `intervalMs`, and stops sending as soon as an answer
 * arrives: `sentBytes` says how much the server had been offered by then.
 */
export function slowChunkedJson(
  url: string,
  opts: { totalBytes: number; pieceBytes: number; intervalMs: number },
): Promise<StreamedAnswer> {
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    let settled = false;
    const finish = (value: StreamedAnswer | Error) => {
      if (settled) return;
      settled = true;
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const req = request(
      url,
      { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
      (res) => {
        answered = true;
        const sentWhenAnswered = sentBytes;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          finish({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            sentBytes: sentWhenAnswered,
            totalBytes: opts.totalBytes,
          });
          req.destroy();
        });
        res.on("error", (e) => finish(e));
      },
    );
    // Once answered, the server may close while bytes are still in flight: that is the point.
    req.on("error", (e) => {
      if (!answered) finish(e);
    });
    const head = '{"filename":"big.mp4","size":10,"contentType":"video/mp4","pad":"';
    const piece = "x".repeat(opts.pieceBytes);
    const send = async () => {
      req.write(head);
      sentBytes = head.length;
      while (!answered && !req.destroyed && sentBytes + opts.pieceBytes + 2 < opts.totalBytes) {
        if (!req.write(piece)) await new Promise((r) => req.once("drain", r));
        sentBytes += opts.pieceBytes;
        await new Promise((r) => setTimeout(r, opts.intervalMs));
      }
      if (!answered && !req.destroyed) {
        req.end('"}');
        sentBytes += 2;
      }
    };
    send().catch((e: Error) => {
      if (!answered) finish(e);
    });
  });
}
