/** One measured line of BENCHMARKS.md. */
export interface BenchRow {
  name: string;
  opsPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
}

/** A target from the issue, with what was measured and whether it was met. */
export interface Target {
  id: string;
  description: string;
  measured: string;
  threshold: string;
  met: boolean | null;
  /** When missed: why (profiled), and whether it is the harness's fault. */
  why?: string;
}

export interface SectionResult {
  title: string;
  /** How it was measured, in one or two sentences. */
  method: string;
  rows: BenchRow[];
  targets: Target[];
  notes?: string[];
}
