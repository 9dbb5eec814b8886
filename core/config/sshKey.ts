// Validates an OpenSSH public key line ("ssh-ed25519 AAAA... comment") without any crypto library:
// the base64 blob must decode and start with the same key type string the line names.

const KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;

/** Returns why the line is not a usable public key line, or undefined when it is. */
export function publicKeyProblem(line: string): string | undefined {
  const parts = line.trim().split(/\s+/);
  const [type, blob] = parts;
  if (!type || !blob) return `expected "<type> <base64>" (e.g. "ssh-ed25519 AAAA...")`;
  if (!(KEY_TYPES as readonly string[]).includes(type)) {
    return `key type "${type}" is not one of ${KEY_TYPES.join(", ")}`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return "the key data is not base64";
  const bytes = Buffer.from(blob, "base64");
  const len = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  const embedded = len > 0 && 4 + len <= bytes.length ? bytes.subarray(4, 4 + len).toString("latin1") : "";
  if (embedded !== type) return `the key data does not encode a "${type}" key (truncated or pasted wrong?)`;
  return undefined;
}
