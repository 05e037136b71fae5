/**
 * 0x9212, the answer to 0x1212, encoded in a worker like every server frame: the runtime completes
 * the decoder's request with the ranges still missing (main-thread state) and has the protocol
 * encode it (`encode` of the module routes the internal request name here). Not a user command:
 * it is not in `commands`, so the command queue never accepts it.
 */
import { EdgeError } from '../../../src/errors.js';
import type { CommandRequest, EncodedCommand, SessionState } from '../../../src/protocol/types.js';
import { MSG } from '../constants.js';
import { buildFrame, phoneFromIdent } from '../frame.js';
import { uploadResultBody } from './layouts.js';

export function encodeUploadResult(req: CommandRequest, session: Readonly<SessionState>): EncodedCommand {
  const p = req.properties;
  const name = p.file_name;
  const type = p.file_type;
  const missing = p.missing;
  if (typeof name !== 'string' || typeof type !== 'number' || !Array.isArray(missing)) throw new EdgeError('EDGE_COMMAND_INVALID', 'attachment_upload_result needs file_name, file_type and missing');
  const ranges: [number, number][] = [];
  for (const m of missing as unknown[]) {
    if (!Array.isArray(m) || m.length !== 2 || !m.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) throw new EdgeError('EDGE_COMMAND_INVALID', 'attachment_upload_result.missing holds [offset, length] pairs of u32');
    ranges.push([m[0] as number, m[1] as number]);
  }
  const version = session.jt808Version === 2019 ? 2019 : 2013;
  const phone = phoneFromIdent(typeof session.ident === 'string' ? session.ident : '', version);
  if (!phone) throw new EdgeError('EDGE_COMMAND_INVALID', 'the attachment link has no terminal ident yet');
  const serial = typeof session.platformSerial === 'number' ? session.platformSerial & 0xffff : 0;
  return { bytes: buildFrame(MSG.attachmentUploadResult, phone, serial, uploadResultBody(name, type, ranges), version), replyKey: null };
}
