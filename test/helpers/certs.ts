// A self-signed P-256 certificate made with openssl, as Proxmox makes a node's pve-ssl.pem (the pvecm stand-in)
// and as the unit tests need one to fingerprint.
import { spawnSync } from "node:child_process";

export interface SelfSignedCert {
  readonly keyFile: string;
  readonly certFile: string;
  readonly days: number;
  /** openssl -subj, e.g. "/CN=pve-low". */
  readonly subject: string;
  /** subjectAltName value, e.g. "DNS:pve-low,IP:10.0.0.1". */
  readonly altName?: string;
}

/** Writes the key and certificate files; throws with openssl's message when it fails. */
export function makeSelfSignedCert(c: SelfSignedCert): void {
  const r = spawnSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", c.keyFile, "-out", c.certFile, "-days", String(c.days), "-subj", c.subject],
      ...(c.altName ? ["-addext", `subjectAltName=${c.altName}`] : []),
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) {
    throw new Error(`openssl req -x509 failed (apt-get install openssl): ${r.error?.message ?? r.stderr}`);
  }
}
