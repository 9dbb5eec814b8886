// VM protection on a cluster whose hosts sleep (issue 18): backups, replication, HA placement, start order.
export * from "./findings";
export * from "./ha";
export * from "./plan";
