import { strict as assert } from "node:assert";
import { calendarEventProblem } from "../../core/calendar";

// Every expression proxmox-time's own tests parse (proxmox-time/src/test.rs), and what pve-docs shows.
const VALID = [
  "0",
  "*",
  "*:0",
  "*:*",
  "*:*:*",
  "*:3:5",
  "mon *:*",
  "mon 2:*",
  "mon 2:50",
  "tue",
  "sun",
  "4..10/2:0",
  "5,10:4,8",
  "10,5:8,4",
  "6,4..10:23,5/5",
  "4..10,6:5/5,23",
  "daily",
  "5/2:0",
  "1:0",
  "2020-07-31",
  "02-28",
  "02-29",
  "1965/5-01-01",
  "2020-7..9-2/2",
  "2020,2021-12-31",
  "minutely",
  "hourly",
  "weekly",
  "monthly",
  "quarterly",
  "semiannually",
  "semi-annually",
  "yearly",
  "annually",
  "daily UTC",
  "mon..fri *:00 UTC",
  "2020-07-31 12:00 UTC",
  "*/15",
  "02:30",
  "sat 03:00",
  "mon..fri 22:00",
  "sun..tue,fri 4:00",
  "Monday 01:00",
];

const INVALID: [string, string][] = [
  ["", "is empty"],
  [" 02:30", "has leading or trailing spaces"],
  ["every night", 'has an unknown weekday at "every night"'],
  ["UTC", "has no weekday, date or time"],
  ["Daily", 'has an unknown weekday at "Daily"'],
  ["*/0", 'cannot be parsed at "/0"'],
  ["5/0:00", 'cannot be parsed at "5/0:00"'],
  ["10..4:00", 'cannot be parsed at "10..4:00"'],
  ["24:00", "reads as minute:second, not hour:minute (hours are 0-23); write *:MM:SS if that is meant"],
  ["02:60", 'cannot be parsed at "02:60"'],
  ["*/30:00", "reads as minute:second, not hour:minute (hours are 0-23); write *:MM:SS if that is meant"],
  ["2:30pm", 'cannot be parsed at "pm"'],
  ["13-01", 'cannot be parsed at "-01"'],
  ["mon,", 'cannot be parsed at ","'],
  ["mon..funday", 'has an unknown weekday at "funday"'],
  ["x".repeat(129), "is longer than 128 characters"],
];

describe("Proxmox calendar events", () => {
  for (const event of VALID) {
    it(`accepts ${JSON.stringify(event)}`, () => assert.equal(calendarEventProblem(event), undefined));
  }
  for (const [event, problem] of INVALID) {
    it(`refuses ${JSON.stringify(event.slice(0, 20))}: it ${problem}`, () =>
      assert.equal(calendarEventProblem(event), problem));
  }
});
