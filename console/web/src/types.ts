// The shapes the server (operator/src/cli/console/) and the engine
// (console/wasm/src/api.rs) send; mirrored here, never re-derived.

export interface Rule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number | string;
}

export interface Config {
  rules: Rule[];
  responseVary?: boolean;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface BucketCors {
  namespace: string;
  name: string;
  provider: "oss" | "s3";
  bucket: string;
  url: string | null;
  target: string;
  config: Config;
  edgeHosts: string[];
  status?: {
    conditions?: Condition[];
    appliedRevision?: string;
    edgeRevision?: string;
    ruleCount?: number;
    lastSyncTime?: string;
  };
  source?: string;
  manifest: string;
}

export interface Session {
  readOnly: boolean;
  source: "dir" | "cluster";
  where: string;
  csrf: string;
}

export interface Issue {
  rule: number | null;
  field: string | null;
  message: string;
}

export interface Validation {
  errors: Issue[];
  warnings: Issue[];
  lints: Issue[];
}

export interface Converted {
  format: string;
  text: string;
  losses: string[];
}

export interface Exchange {
  method: string;
  requestHeaders: [string, string][];
  status: number;
  headers: [string, string][];
  body: string | null;
  matchedRule: number | null;
  explanation: string[];
}

export interface Evaluation {
  error: string | null;
  /** Path and query the requests carry, query values redacted. */
  target: string;
  preflight: Exchange | null;
  actual: Exchange | null;
  browser: Outcome | null;
}

export interface Outcome {
  allowed: boolean;
  stage: string | null;
  reason: string | null;
  message: string | null;
  unlistedHeaders: string[];
  droppedHeaders: string[];
  standard: string | null;
}

export interface FetchRequest {
  url: string;
  origin: string;
  method: string;
  headers: [string, string][];
  credentials: boolean;
}

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  count?: number;
  lastTimestamp?: string;
}
