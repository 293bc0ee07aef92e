/**
 * An honest network in front of the worker for clients the test cannot reach
 * into (the CLI runs in its own process): it streams every request through
 * unchanged and records each answer's status, so retried 5xx answers and
 * resent chunks show. It can also hold chunk PUTs back (never forward them),
 * to stop an upload after a known number of chunks.
 */
import { createServer, request, type Server } from "node:http";

export type Exchange = { method: string; path: string; chunk?: number; status?: number };
export type RecordingProxy = {
  url: string;
  /** Every request in arrival order; `status` is set once the worker answered. */
  exchanges: Exchange[];
  /** Forward only this many chunk PUTs in all; later ones wait unanswered until their client goes away. */
  forwardChunks(limit: number): void;
  close(): Promise<void>;
};

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  let chunkLimit = Infinity;
  let chunksForwarded = 0;

  const server: Server = createServer((req, res) => {
    const m = req.method === "PUT" ? /\/chunks\/(\d+)$/.exec(req.url ?? "") : null;
    const exchange: Exchange = { method: req.method!, path: req.url!, ...(m ? { chunk: Number(m[1]) } : {}) };
    exchanges.push(exchange);
    if (m && chunksForwarded >= chunkLimit) return;
    if (m) chunksForwarded++;
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        exchange.status = answer.statusCode;
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    forwardChunks: (limit) => {
      chunkLimit = limit;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The exchanges the worker answered with a server error. */
export const serverErrors = (exchanges: Exchange[]) =>
  exchanges.filter((e) => (e.status ?? 0) >= 500).map((e) => `${e.method} ${e.path} → ${e.status}`);
