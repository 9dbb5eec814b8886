// Cluster membership scripts: pvecm create on the always-on host, pvecm add on each other host (one at a time),
// a member check and `pvecm delnode` that run on the always-on host. Each is a pure function of the Model.
export { createClusterScript, FINGERPRINT_RE } from "./create";
export { joinScript, joinStdin } from "./join";
export { delnodeScript, memberScript } from "./member";
export { founderOf, hostField, hostPath, joinersOf, membershipFindings, MEMBERSHIP_TIMEOUTS } from "./plan";
export { DELNODE_SECONDS, retireScript, retireStdin } from "./retire";
export { PVESH_FIELDS_PERL, pveshFunctions } from "./pvesh";
