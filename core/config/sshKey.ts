// Validates an OpenSSH public key line ("ssh-ed25519 AAAA... comment") without a crypto library: the
// base64 blob is a sequence of length-prefixed fields (RFC 4253 §6.6) that must start with the key type the
// line names, hold exactly the fields that type needs, and end exactly where the data ends.

const FIELDS_BY_TYPE: Readonly<Record<string, number>> = {
  "ssh-ed25519": 2, // type, 32-byte key
  "ecdsa-sha2-nistp256": 3, // type, curve, point
  "ecdsa-sha2-nistp384": 3,
  "ecdsa-sha2-nistp521": 3,
  "ssh-rsa": 3, // type, e, n
};

function fields(bytes: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return undefined;
    const len = bytes.readUInt32BE(at);
    if (at + 4 + len > bytes.length) return undefined;
    out.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** One key line: type, base64 blob, optional printable-ASCII comment; nothing else (no second line). */
const KEY_LINE = /^(\S+) ([^ ]+)(?: ([\x20-\x7e]{1,200}))?$/;

/** Returns why the line is not exactly one usable public key line, or undefined when it is. */
export function publicKeyProblem(line: string): string | undefined {
  const text = line.trim();
  if (/[\r\n]/.test(text)) return "it holds more than one line; give exactly one key";
  if (/[^\x20-\x7e]/.test(text)) return "it holds control or non-ASCII characters";
  const m = KEY_LINE.exec(text);
  const [type, blob] = m ? [m[1], m[2]] : [];
  if (!type || !blob) return `expected "<type> <base64> [comment]" (e.g. "ssh-ed25519 AAAA...")`;
  const expected = FIELDS_BY_TYPE[type];
  if (expected === undefined)
    return `key type "${type.slice(0, 40)}" is not one of ${Object.keys(FIELDS_BY_TYPE).join(", ")}`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return "the key data is not base64";
  const parts = fields(Buffer.from(blob, "base64"));
  const broken = `the key data does not encode a "${type}" key (truncated or pasted wrong?)`;
  if (!parts || parts.length !== expected || parts[0]?.toString("latin1") !== type) return broken;
  if (Buffer.from(blob, "base64").toString("base64") !== blob) return broken;
  if (type === "ssh-ed25519" && parts[1]?.length !== 32) return broken;
  if (type.startsWith("ecdsa-") && parts[1]?.toString("latin1") !== type.slice("ecdsa-sha2-".length))
    return broken;
  return undefined;
}

/** "type base64" without the comment: what known_hosts lines and comparisons use. */
export function keyWithoutComment(line: string): string {
  const [type, blob] = line.trim().split(" ");
  return `${type} ${blob}`;
}
