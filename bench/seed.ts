/**
 * `npm run seed -- --count 100000 [--state DIR]`: fills the local D1 database
 * with realistic synthetic videos (ready, mostly public) for benchmarks. The
 * rows are deterministic (seeded PRNG), so two runs produce the same catalogue,
 * and `seedSql` is shared with the search benchmark's direct-SQLite baseline.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "../test/stack.ts";

const PLACES = [
  "Alps",
  "Norway",
  "Patagonia",
  "Kyoto",
  "Lisbon",
  "Iceland",
  "Yosemite",
  "the Dolomites",
  "Montréal",
  "São Paulo",
  "Marrakech",
  "the Highlands",
  "Bali",
  "Zürich",
  "Reykjavík",
  "Québec",
  "Cape Town",
  "the Pyrenees",
  "Hokkaido",
  "Tasmania",
];
const SUBJECTS = [
  "sunrise",
  "sunset",
  "thunderstorm",
  "northern lights",
  "glacier",
  "waterfall",
  "street food",
  "night market",
  "mountain bike",
  "kayak",
  "surf session",
  "trail run",
  "road trip",
  "bird migration",
  "city walk",
  "drone flight",
  "snowboard",
  "rock climbing",
  "sailing race",
  "hot air balloon",
];
const FORMATS = [
  "timelapse",
  "vlog",
  "4K tour",
  "documentary",
  "highlights",
  "tutorial",
  "behind the scenes",
  "slow motion",
  "day 1",
  "day 2",
  "day 3",
  "full ride",
  "travel guide",
  "cinematic edit",
  "review",
];
const HOWTO = [
  "How to fix a bike chain",
  "How to edit drone footage",
  "How to pack for a long hike",
  "Cooking ramen at home",
  "Learning to surf in a week",
  "Building a tiny cabin",
  "Restoring an old camera",
  "Making sourdough bread",
  "Tuning a road bike",
  "Shooting the milky way",
];
const SENTENCES = [
  "Filmed on a quiet morning with a handheld gimbal.",
  "We spent three days exploring the area and this is what we saw.",
  "Music licensed for this video; no copyright claims please.",
  "Shot in 4K and color graded in post.",
  "The weather changed every ten minutes, which made for dramatic light.",
  "Thanks for watching, and tell us where we should go next.",
  "A short guide for beginners, with the mistakes we made along the way.",
  "Recorded with a small team and a lot of coffee.",
  "Crème brûlée for breakfast, then a long climb to the café at the top.",
  "Best viewed on a big screen with the sound up.",
];
const TAGS = [
  "travel",
  "nature",
  "timelapse",
  "drone",
  "4k",
  "vlog",
  "outdoors",
  "adventure",
  "hiking",
  "cycling",
  "surfing",
  "food",
  "city",
  "mountains",
  "ocean",
  "snow",
  "camping",
  "photography",
  "tutorial",
  "diy",
  "music",
  "slowmo",
  "wildlife",
  "weather",
  "roadtrip",
  "sunrise",
  "sunset",
  "night",
  "aerial",
  "sports",
];

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SeedRow = {
  id: string;
  title: string;
  description: string;
  tags: string[];
  visibility: "public" | "unlisted";
  durationSec: number;
  createdAt: number;
  width: number;
  height: number;
};

export function* seedRows(count: number, seed = 42): Generator<SeedRow> {
  const r = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const start = Date.parse("2024-11-25T00:00:00Z");
  const span = 2 * 365 * 24 * 3600 * 1000;
  for (let i = 0; i < count; i++) {
    const title =
      r() < 0.2
        ? `${pick(HOWTO)} (part ${1 + Math.floor(r() * 5)})`
        : `${cap(pick(SUBJECTS))} in ${pick(PLACES)} — ${pick(FORMATS)}`;
    const description = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(SENTENCES)).join(" ");
    const tags = [...new Set(Array.from({ length: 2 + Math.floor(r() * 4) }, () => pick(TAGS)))];
    const id = `s${crockford(i).padStart(19, "0")}`;
    yield {
      id,
      title,
      description,
      tags,
      visibility: r() < 0.05 ? "unlisted" : "public",
      durationSec: Math.round((15 + r() * 1800) * 10) / 10,
      createdAt: start + Math.floor((i / count) * span + r() * 1000),
      width: 1920,
      height: 1080,
    };
  }
}

/** A valid video id (Crockford base32, as the Worker generates) from a counter. */
function crockford(n: number): string {
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  let out = "";
  do {
    out = alphabet[n % 32] + out;
    n = Math.floor(n / 32);
  } while (n > 0);
  return out;
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Multi-row INSERT statements, `batch` rows each (D1 refuses statements over 100 KB). */
export function* seedSql(count: number, batch = 100): Generator<string> {
  let values: string[] = [];
  for (const v of seedRows(count)) {
    values.push(
      `(${q(v.id)}, ${q(v.title)}, ${q(v.description)}, ${q(JSON.stringify(v.tags))}, 'seed.mp4', 1000000, 'video/mp4', 'ready', ${q(v.visibility)}, ${v.durationSec}, ${v.width}, ${v.height}, 30, 1, ${v.createdAt}, ${v.createdAt})`,
    );
    if (values.length === batch) {
      yield insert(values);
      values = [];
    }
  }
  if (values.length) yield insert(values);
}

const insert = (values: string[]) =>
  `INSERT INTO videos (id, title, description, tags, filename, size, content_type, status, visibility, duration_sec, width, height, frame_rate, ladder_complete, created_at, updated_at) VALUES\n${values.join(",\n")};`;

function wrangler(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), ...args], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler ${args[0]} exited with ${code}`))));
  });
}

/** Seeds the local D1 database under `stateDir` through wrangler, as `npm start` would see it. */
export async function seedLocal(stateDir: string, count: number): Promise<void> {
  await wrangler(["d1", "migrations", "apply", "reelay", "--local", "--persist-to", stateDir]);
  const dir = await mkdtemp(join(tmpdir(), "reelay-seed-"));
  try {
    const file = join(dir, "seed.sql");
    await writeFile(file, [...seedSql(count)].join("\n"));
    await wrangler(["d1", "execute", "reelay", "--local", "--persist-to", stateDir, "--file", file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { count: { type: "string", default: "100000" }, state: { type: "string" } },
  });
  const stateDir = values.state ?? process.env.REELAY_STATE_DIR ?? join(root, ".wrangler/state");
  const started = performance.now();
  await seedLocal(stateDir, Number(values.count));
  console.log(
    `seeded ${values.count} videos into ${stateDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
