/** Shared pieces of the benchmarks: process memory, timing, statistics, tables. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** PIDs of the processes under a process tree, only those whose command is `name` when given. */
export function descendants(pid: number, name?: string): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,comm="], { encoding: "utf8" });
  const rows = out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .map(([p, pp, c]) => ({ pid: Number(p), ppid: Number(pp), comm: c }));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const r of rows)
      if (r.ppid === parent) {
        if (!name || r.comm === name) found.push(r.pid);
        walk(r.pid);
      }
  };
  walk(pid);
  return found;
}

/** Resident set size (VmRSS) or its high-water mark (VmHWM) of a process, in bytes. */
export function memory(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const MB = 1e6;
export const MiB = 1024 * 1024;

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}
