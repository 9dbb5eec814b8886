// Votequorum arithmetic (arithmetic.ts), the what-if table (what-if.ts), its compact form for many hosts
// (boundary.ts) and the quorum findings (findings/).
export * from "./arithmetic";
export * from "./what-if";
export * from "./findings";
export * from "./boundary";
