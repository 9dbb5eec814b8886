// Votequorum arithmetic (arithmetic.ts), the what-if table (what-if.ts), its compact form for many hosts
// (boundary.ts), the quorum findings (findings/) and the write-time safety check (safety.ts).
export * from "./arithmetic";
export * from "./what-if";
export * from "./findings";
export * from "./boundary";
export * from "./safety";
