// Proxmox calendar events (the `schedule` of backup and replication jobs), checked the way Proxmox parses
// them: a port of the grammar of proxmox-time `calendar_event.rs` (`parse_calendar_event_incomplete`,
// `parse_date_spec`, `parse_time_spec`, `parse_date_time_comp_list`) and `week_days.rs`, which
// PVE::CalendarEvent calls through Proxmox::RS::CalendarEvent. Only validation, no next-event arithmetic.
// Stricter than Proxmox where a value parses but means nothing or something else than it reads: a repetition
// of 0 ("5/0"), and "25:00", which Proxmox reads as minute 25, second 0 of every hour.

/** pve-manager PVE/API2/Backup.pm and pve-guest-common ReplicationConfig.pm: `maxLength => 128`. */
export const CALENDAR_EVENT_MAX = 128;

const KEYWORDS = new Set([
  "minutely",
  "hourly",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "annually",
  "quarterly",
  "semiannually",
  "semi-annually",
]);
const WEEKDAYS = new Set(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].flatMap((d) => [d, fullDay(d)]));

function fullDay(short: string): string {
  const names: Record<string, string> = {
    mon: "monday",
    tue: "tuesday",
    wed: "wednesday",
    thu: "thursday",
    fri: "friday",
    sat: "saturday",
    sun: "sunday",
  };
  return names[short]!;
}

/** Why `text` is not a calendar event Proxmox accepts, or undefined when it is one. */
export function calendarEventProblem(text: string): string | undefined {
  if (text.trim() !== text) return "has leading or trailing spaces";
  if (text === "") return "is empty";
  if (text.length > CALENDAR_EVENT_MAX) return `is longer than ${CALENDAR_EVENT_MAX} characters`;
  let rest = text;
  if (rest.endsWith("UTC")) rest = rest.slice(0, -3).replace(/ +$/, "");
  if (/^[A-Za-z]/.test(rest) && KEYWORDS.has(rest)) return undefined;
  const p = new Parser(rest);
  let spec = false;
  if (/^[A-Za-z]/.test(rest)) {
    const problem = p.weekdays();
    if (problem) return problem;
    p.spaces();
    spec = true;
  }
  const date = p.attempt(() => p.dateSpec());
  if (date) {
    p.spaces();
    spec = true;
  }
  const time = p.attempt(() => p.timeSpec());
  if (time) spec = true;
  if (!spec) return rest === "" ? "has no weekday, date or time" : `cannot be parsed at "${p.left()}"`;
  if (p.left() !== "") return `cannot be parsed at "${p.left()}"`;
  // Proxmox reads "25:00" as minute 25, second 0 (every hour): never what was meant.
  if (p.minuteSecond)
    return "reads as minute:second, not hour:minute (hours are 0-23); write *:MM:SS if that is meant";
  return undefined;
}

/** A tiny backtracking reader over the event text; each method consumes on success and returns false (or a
 *  problem) otherwise, like the nom combinators it mirrors. */
class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  left(): string {
    return this.text.slice(this.pos);
  }

  spaces(): void {
    while (this.text[this.pos] === " ") this.pos++;
  }

  attempt(f: () => boolean): boolean {
    const start = this.pos;
    if (f()) return true;
    this.pos = start;
    return false;
  }

  private eat(s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  /** `digit1` parsed as a u32 and below `max` (parse_time_comp). */
  private number(max: number): number | undefined {
    const m = /^\d+/.exec(this.left());
    if (!m) return undefined;
    const v = Number(m[0]);
    if (v > 0xffffffff || v >= max) return undefined;
    this.pos += m[0].length;
    return v;
  }

  /** `sun..tue,fri`: weekday ranges separated by commas; names case-insensitive, short or long. */
  weekdays(): string | undefined {
    for (;;) {
      if (!this.weekday()) return `has an unknown weekday at "${this.left()}"`;
      if (this.eat("..") && !this.weekday()) return `has an unknown weekday at "${this.left()}"`;
      if (!this.attempt(() => this.eat(",") && /^[A-Za-z]/.test(this.left()))) return undefined;
    }
  }

  private weekday(): boolean {
    const m = /^[A-Za-z]+/.exec(this.left());
    if (!m || !WEEKDAYS.has(m[0].toLowerCase())) return false;
    this.pos += m[0].length;
    return true;
  }

  /** One value: `N`, `N..M`, `N..M/R` or `N/R` (parse_date_time_comp). */
  private component(max: number): boolean {
    const value = this.number(max);
    if (value === undefined) return false;
    if (this.eat("..")) {
      const end = this.number(max);
      if (end === undefined || value > end) return false;
    }
    if (this.eat("/")) {
      const repeat = this.number(max);
      if (repeat === undefined || repeat === 0) return false;
    }
    return true;
  }

  /** `*`, `*\/R` or a comma list of components (parse_date_time_comp_list); commas bind like nom's
   *  separated_list1: a comma not followed by a component is left unconsumed. */
  private list(max: number): boolean {
    if (this.eat("*")) {
      this.attempt(() => {
        if (!this.eat("/")) return false;
        const repeat = this.number(max);
        return repeat !== undefined && repeat > 0;
      });
      return true;
    }
    if (!this.component(max)) return false;
    while (this.attempt(() => this.eat(",") && this.component(max)));
    return true;
  }

  /** `Y-M-D` or `M-D` (parse_date_spec). */
  dateSpec(): boolean {
    return (
      this.attempt(
        () => this.list(2200) && this.eat("-") && this.list(13) && this.eat("-") && this.list(32),
      ) || this.attempt(() => this.list(13) && this.eat("-") && this.list(32))
    );
  }

  /** Set when a time parsed as minute:second because its first number is no hour ("25:00"). */
  minuteSecond = false;

  /** `[H:]M[:S]` (parse_time_spec). */
  timeSpec(): boolean {
    const hour = this.attempt(() => this.list(24) && this.eat(":"));
    if (!this.list(60)) return false;
    const second = this.attempt(() => this.eat(":") && this.list(60));
    this.minuteSecond = !hour && second;
    return true;
  }
}
