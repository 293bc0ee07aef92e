/**
 * A bare Worker on the local R2 simulator, doing only one storage step at a
 * time, so `npm run bench -- large` can show workerd's memory for Reelay
 * beside what that step alone costs (bench/large.ts). Plain JavaScript: it
 * runs in workerd, outside the Node type check. Not part of Reelay.
 *
 * - `POST /mpu/:key` creates a multipart upload: `{ uploadId }`.
 * - `PUT /mpu/:key/:uploadId/:part` is `uploadPart(part, request.body)`, nothing else.
 * - `POST /mpu/:key/:uploadId/complete` with `[{ partNumber, etag }]` completes it.
 * - `GET /objects/:key` with `Range: bytes=a-b` is one ranged `get()`, streamed back.
 */
export default {
  /** @param {Request} request @param {{ BUCKET: any }} env */
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, key, uploadId, part] = url.pathname.split("/");
    if (kind === "mpu" && request.method === "POST" && !uploadId) {
      const upload = await env.BUCKET.createMultipartUpload(key);
      return Response.json({ uploadId: upload.uploadId });
    }
    if (kind === "mpu" && request.method === "PUT") {
      const uploaded = await env.BUCKET.resumeMultipartUpload(key, uploadId).uploadPart(Number(part), request.body);
      return Response.json(uploaded);
    }
    if (kind === "mpu" && request.method === "POST" && part === "complete") {
      const object = await env.BUCKET.resumeMultipartUpload(key, uploadId).complete(await request.json());
      return Response.json({ size: object.size });
    }
    if (kind === "objects" && request.method === "GET") {
      const m = /^bytes=(\d+)-(\d+)$/.exec(request.headers.get("range") ?? "");
      if (!m) return new Response("send Range: bytes=a-b", { status: 400 });
      const offset = Number(m[1]);
      const object = await env.BUCKET.get(key, { range: { offset, length: Number(m[2]) - offset + 1 } });
      if (!object) return new Response("no such object", { status: 404 });
      return new Response(object.body, { status: 206 });
    }
    return new Response("not found", { status: 404 });
  },
};
