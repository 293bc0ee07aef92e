/**
 * Which waiting video's span gets a free transcoder next, pure. Videos take
 * turns (round robin, in a fixed order, from the one after the last served),
 * and a video already running its share of the slots is passed over while
 * another waits; when every waiting video has its share, turns go on among
 * them, so no slot stays idle while work waits.
 */

/** Slots one video may hold while others wait: its share of all of them, at least one. */
export const shareOf = (capacity: number, sharePercent: number) =>
  Math.max(1, Math.floor((capacity * sharePercent) / 100));

/**
 * The video to serve next, or undefined if none waits. `waiting` lists the
 * videos with a span waiting, `running` how many slots each holds, `last`
 * the video served last.
 */
export function nextVideo(
  waiting: readonly string[],
  running: ReadonlyMap<string, number>,
  last: string | null,
  share: number,
): string | undefined {
  if (waiting.length === 0) return undefined;
  const order = [...new Set(waiting)].sort();
  const after = last === null ? 0 : order.findIndex((v) => v > last);
  const turns = after < 0 ? order : [...order.slice(after), ...order.slice(0, after)];
  return turns.find((v) => (running.get(v) ?? 0) < share) ?? turns[0];
}
