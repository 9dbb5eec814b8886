export { loadModel, type LoadResult, type RawStackConfig } from "./load";
export { SECRET_KEYS, type SecretKey } from "./schema";
export { configPath } from "./findings";
export { decodeConfigValue, STRUCTURED_KEYS } from "./decode";
