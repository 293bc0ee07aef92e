/**
 * A misbehaving network in front of the worker: chunk PUTs are dropped in the
 * middle of their body, duplicated, or delayed so they complete out of order.
 * Deterministic (seeded), bounded to loopback, and it counts what it did.
 * Its faults are broken connections, never HTTP errors, so every 5xx it sees
 * came from the worker: those are recorded, duplicates' answers included.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export type Faults = { chunkRequests: number; dropped: number; duplicated: number; delayed: number };
export type ChaosProxy = { url: string; faults: Faults; upstreamServerErrors: string[]; close: () => Promise<void> };

export async function startChaosProxy(
  target: string,
  opts: { drop: number; duplicate: number; seed?: number },
): Promise<ChaosProxy> {
  let seed = opts.seed ?? 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const faults: Faults = { chunkRequests: 0, dropped: 0, duplicated: 0, delayed: 0 };
  const upstreamServerErrors: string[] = [];
  const upstream = new URL(target);

  const forward = (req: IncomingMessage, body: Buffer | IncomingMessage, copy = "") =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; data: Buffer }>((resolve, reject) => {
      const up = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (d) => parts.push(d));
          res.on("end", () => {
            if (res.statusCode! >= 500) {
              const data = Buffer.concat(parts);
              const text = /json|text/.test(String(res.headers["content-type"]))
                ? data.toString("utf8").slice(0, 200)
                : `${data.length} bytes of ${res.headers["content-type"] ?? "no type"}`;
              upstreamServerErrors.push(`${req.method} ${req.url}${copy} → ${res.statusCode} ${text}`);
            }
            resolve({ status: res.statusCode!, headers: res.headers, data: Buffer.concat(parts) });
          });
          res.on("error", reject);
        },
      );
      up.on("error", reject);
      if (Buffer.isBuffer(body)) up.end(body);
      else body.pipe(up);
    });

  const server: Server = createServer(async (req, res) => {
    const isChunk = req.method === "PUT" && /\/chunks\/\d+$/.test(req.url ?? "");
    try {
      if (!isChunk) {
        const r = await forward(req, req);
        res.writeHead(r.status, r.headers).end(r.data);
        return;
      }
      faults.chunkRequests++;
      const roll = random();
      if (roll < opts.drop) {
        // Forward part of the body, then cut both connections.
        faults.dropped++;
        const up = request({
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        });
        up.on("error", () => {});
        let sent = 0;
        const cutAt = 256 * 1024 + Math.floor(random() * 2 * 1024 * 1024);
        req.on("data", (d: Buffer) => {
          sent += d.length;
          up.write(d);
          if (sent >= cutAt) {
            up.destroy();
            req.socket.destroy();
          }
        });
        req.on("end", () => {
          up.destroy();
          req.socket.destroy();
        });
        return;
      }
      const parts: Buffer[] = [];
      for await (const d of req) parts.push(d as Buffer);
      const body = Buffer.concat(parts);
      if (roll < opts.drop + opts.duplicate) {
        faults.duplicated++;
        const [first] = await Promise.all([
          forward(req, body, " (duplicated: first copy)"),
          forward(req, body, " (duplicated: second copy)").catch(() => undefined),
        ]);
        res.writeHead(first.status, first.headers).end(first.data);
        return;
      }
      faults.delayed++;
      await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
      const r = await forward(req, body);
      res.writeHead(r.status, r.headers).end(r.data);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    upstreamServerErrors,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
