// What the testbed benches share: figures rounded to milliseconds, and the entry point that prints them as
// `key: value` lines and fails the run when a figure that must hold (e.g. one SSH session) does not.
export const round = (x: number): number => Math.round(x * 1000) / 1000;

export type Figures = Record<string, number>;

/** Runs `measure`, prints its figures, and sets a failing exit code when `holds` says they are wrong. */
export function printFigures<F extends Figures>(
  measure: () => Promise<F>,
  holds: (figures: F) => boolean,
): void {
  measure().then(
    (figures) => {
      for (const [key, value] of Object.entries(figures)) process.stdout.write(`${key}: ${value}\n`);
      if (!holds(figures)) process.exitCode = 1;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
