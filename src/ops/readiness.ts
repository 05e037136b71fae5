/** What /readyz answers (src/http/server.ts). */
export interface Readiness {
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
}
