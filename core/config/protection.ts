// Schemas of what keeps VMs alive across sleeping hosts (issue 18): backup jobs, storage replication, start
// order and the Proxmox version HA depends on. Every format is Proxmox's own, named at its definition.
import { z } from "zod";
import { calendarEventProblem } from "../calendar";

/** pve-common PVE::JSONSchema parse_id ('pve-storage-id'): at least 2 characters, `[a-z][a-z0-9\-_.]*[a-z0-9]`
 *  (case-insensitive). bpg's disk import also puts storage ids into shell commands unquoted: never widen this. */
export const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
/** pve-common $CONFIGID_RE ('pve-configid'): backup job ids (PVE/API2/Backup.pm), HA group and rule ids. */
export const CONFIG_ID = /^[a-z][a-z0-9_-]+$/i;
/** pve-manager PVE/VZDump.pm 'pve-backup-jobid': maxLength 50. */
export const BACKUP_JOB_ID_MAX = 50;

export const storageId = (field: string) =>
  z.string({ error: `${field} must be a Proxmox storage id, e.g. local` }).regex(STORAGE_ID, {
    error: (i) =>
      `${field} ${JSON.stringify(i.input)} is not a Proxmox storage id: 2+ characters, a letter first, then letters, digits, - _ . (ending in a letter or digit); use the ID column of \`pvesm status\``,
  });

export const calendarEvent = (field: string) =>
  z
    .string({ error: `${field} must be a Proxmox calendar event, e.g. 02:30 or mon..fri 22:00` })
    .superRefine((s, ctx) => {
      const problem = calendarEventProblem(s);
      if (problem) {
        ctx.addIssue({
          code: "custom",
          message: `${field} ${JSON.stringify(s)} is not a Proxmox calendar event (it ${problem}); write e.g. "02:30", "*/15", "sat 03:00" or "mon..fri 22:00" (Proxmox "Schedule Format")`,
        });
      }
    });

const wholeAtLeast = (field: string, min: number) =>
  z.int({ error: `${field} must be a whole number >= ${min}` }).min(min, {
    error: `${field} must be a whole number >= ${min}`,
  });

/** pve-storage PVE::Storage::Plugin $prune_backups_format: keep-* are integers >= 0; keep-all is a boolean
 *  that conflicts with the others (validate_prune_backups). The cross checks are in the rules. */
export const retentionSchema = z.strictObject({
  keepAll: z.boolean({ error: "retention.keepAll must be true or false" }).optional(),
  keepLast: wholeAtLeast("retention.keepLast", 0).optional(),
  keepHourly: wholeAtLeast("retention.keepHourly", 0).optional(),
  keepDaily: wholeAtLeast("retention.keepDaily", 0).optional(),
  keepWeekly: wholeAtLeast("retention.keepWeekly", 0).optional(),
  keepMonthly: wholeAtLeast("retention.keepMonthly", 0).optional(),
  keepYearly: wholeAtLeast("retention.keepYearly", 0).optional(),
});

/** Config key → Proxmox prune-backups key, in Proxmox's processing order. */
export const RETENTION_KEYS = {
  keepLast: "keep-last",
  keepHourly: "keep-hourly",
  keepDaily: "keep-daily",
  keepWeekly: "keep-weekly",
  keepMonthly: "keep-monthly",
  keepYearly: "keep-yearly",
} as const;

export const BACKUP_MODES = ["snapshot", "suspend", "stop"] as const;
/** pve-guest-common PVE/VZDump/Common.pm `compress` enum. */
export const BACKUP_COMPRESSIONS = ["0", "1", "gzip", "lzo", "zstd"] as const;

export const backupJobSchema = z.strictObject({
  id: z
    .string({ error: "backups[].id is required: the Proxmox job id, e.g. nightly" })
    .max(BACKUP_JOB_ID_MAX, { error: `id must be at most ${BACKUP_JOB_ID_MAX} characters (vzdump job id)` })
    .regex(CONFIG_ID, {
      error: (i) =>
        `id ${JSON.stringify(i.input)} is not a Proxmox job id: a letter, then letters, digits, _ or - (2+ characters)`,
    }),
  schedule: calendarEvent("schedule"),
  storage: storageId("storage"),
  /** The cluster host that serves `storage` (an NFS export or PBS datastore on it), when it is one. */
  storageHost: z.string().optional(),
  mode: z
    .enum(BACKUP_MODES, { error: `mode must be one of ${BACKUP_MODES.join(" | ")}` })
    .default("snapshot"),
  compress: z
    .enum(BACKUP_COMPRESSIONS, { error: `compress must be one of ${BACKUP_COMPRESSIONS.join(" | ")}` })
    .default("zstd"),
  vms: z.union([z.literal("all"), z.array(z.string()).min(1, { error: "vms must name at least one VM" })], {
    error: 'vms must be "all" or a list of VM names',
  }),
  retention: retentionSchema.optional(),
  repeatMissed: z.boolean().optional(),
  /** vzdump `bwlimit`, KiB/s; 0 = unlimited (pve-guest-common: integer, minimum 0). */
  bwlimit: wholeAtLeast("bwlimit", 0).optional(),
  enabled: z.boolean().default(true),
});

/** pve-guest-common ReplicationConfig.pm: `rate` is a number >= 1 (MB/s), `schedule` a calendar event,
 *  default "*\/15"; jobs are `local` (storage replication between nodes). */
export const replicationSchema = z.strictObject({
  host: z.string({ error: "replicateTo[].host is required: the node that receives the copies" }),
  schedule: calendarEvent("schedule").default("*/15"),
  rate: z
    .number({ error: "rate must be a number of MB/s >= 1" })
    .min(1, { error: "rate must be >= 1 MB/s (Proxmox's minimum); leave it out for no limit" })
    .max(1_000_000, { error: "rate must be <= 1000000 MB/s; leave it out for no limit" })
    .optional(),
});

/** pve-common pve_parse_startup_order: `order=\d+,up=\d+,down=\d+`, each a non-negative integer. */
export const startupSchema = z.strictObject({
  order: wholeAtLeast("startup.order", 0).optional(),
  upDelay: wholeAtLeast("startup.upDelay", 0)
    .max(86_400, { error: "startup.upDelay is in seconds; keep it under a day (86400)" })
    .optional(),
  downDelay: wholeAtLeast("startup.downDelay", 0)
    .max(86_400, { error: "startup.downDelay is in seconds; keep it under a day (86400)" })
    .optional(),
});

export const PROXMOX_VERSIONS = [8, 9] as const;
export const proxmoxVersionSchema = z.union([z.literal(8), z.literal(9)], {
  error: "proxmoxVersion must be 8 or 9 (the major Proxmox VE version of every host: `pveversion`)",
});
