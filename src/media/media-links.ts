import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';

export interface MediaLinkOptions {
  /** Base of the links (config http.public_url, or the listener's own address once it is bound), e.g. https://edge.example.com:8443. */
  publicUrl: () => string;
  /** The HMAC key (config http.link_key or link_key_file); empty: the key stored in the media folder. */
  key: string;
  /** Where a generated key is kept when none is configured (the media folder, shared by the instances). */
  mediaDir: string;
  /** Lifetime of a link, s; 0 = links never expire (they are revoked by changing the key). */
  ttlS: number;
  now?: () => number;
}

const KEY_FILE = '.link-key';

/**
 * Signed download links: `{public_url}/media/{id}?exp={unix s}&sig={hmac}`. The signature is an
 * HMAC-SHA256 over the id and the expiry with a key only the server knows, so a link downloads that
 * one file (until it expires) without a token, and an integration can hand it to a browser. Changing
 * the key revokes every link. Without a configured key one is generated once and kept in the media
 * folder (mode 0600), so links survive restarts and every instance sharing the folder accepts them.
 */
export class MediaLinks {
  private readonly key: Buffer;
  private readonly now: () => number;

  constructor(private readonly o: MediaLinkOptions) {
    if (o.key && o.key.length < 16) throw new EdgeError('EDGE_CONFIG_INVALID', `http.link_key: expected 16 characters or more, got a secret of ${o.key.length} characters`);
    this.key = o.key ? Buffer.from(o.key, 'utf8') : storedKey(o.mediaDir);
    this.now = o.now ?? Date.now;
  }

  /** The link of a file id (expiring after the configured lifetime, if any). */
  url(id: string): string {
    const exp = this.o.ttlS > 0 ? Math.floor(this.now() / 1000) + this.o.ttlS : 0;
    return `${this.o.publicUrl().replace(/\/+$/, '')}/media/${id}?exp=${exp}&sig=${this.sign(id, exp)}`;
  }

  /** Throws EDGE_HTTP_FORBIDDEN unless `sig` is the signature of `id` and `exp`, and `exp` (0: never) has not passed. */
  verify(id: string, exp: string | undefined, sig: string | undefined): void {
    const e = exp !== undefined && /^\d{1,12}$/.test(exp) ? Number(exp) : NaN;
    if (!Number.isFinite(e) || typeof sig !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(sig)) throw new EdgeError('EDGE_HTTP_FORBIDDEN', 'the link is not signed (exp and sig are required)');
    const want = Buffer.from(this.sign(id, e));
    if (!timingSafeEqual(want, Buffer.from(sig))) throw new EdgeError('EDGE_HTTP_FORBIDDEN', 'the link signature is not valid (a changed key revokes old links)');
    if (e !== 0 && e * 1000 < this.now()) throw new EdgeError('EDGE_HTTP_FORBIDDEN', `the link expired at ${new Date(e * 1000).toISOString()}`);
  }

  private sign(id: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${id}\n${exp}`).digest('base64url');
  }
}

/** The generated key in the media folder: created once (exclusively, so two instances starting together agree), then read. */
function storedKey(dir: string): Buffer {
  const path = join(dir, KEY_FILE);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(path, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new EdgeError('EDGE_CONFIG_INVALID', `http: cannot create the link key ${path}: ${(e as Error).message}`);
  }
  const key = readFileSync(path, 'utf8').trim();
  if (key.length < 16) throw new EdgeError('EDGE_CONFIG_INVALID', `http: the link key in ${path} is shorter than 16 characters; delete the file to have a new one made (this revokes every link)`);
  return Buffer.from(key, 'utf8');
}
