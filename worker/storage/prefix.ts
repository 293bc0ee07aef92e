/** Deletes every R2 object under a prefix, a listing page (≤ 1000 keys) at a time. */
export async function deletePrefix(bucket: R2Bucket, prefix: string, keep?: (key: string) => boolean): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor, limit: 1000 });
    const keys = page.objects.map((o) => o.key).filter((k) => !keep?.(k));
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}
