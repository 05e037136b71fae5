/**
 * The `attachments` part of the jt808 family: the alarm attachment server (Subiao T/JSATL12 §4.5)
 * a dashcam connects to after 0x9208. A channel opens it with `parts.attachments.tcp_port`.
 */
import type { ProtocolPart } from '../../../src/protocol/types.js';
import { decodeAttachment } from './decoder.js';
import { explainAttachmentInvalid, MAX_ATTACHMENT_FRAME_BYTES, splitAttachment } from './splitter.js';

export const attachmentsPart: ProtocolPart = {
  id: 'attachments',
  title: 'JT/T 808 alarm attachment server (Subiao 0x1210/0x1211/0x1212 and data chunks)',
  transports: ['tcp'],
  defaultPorts: { tcp: 7612 },
  maxFrameBytes: MAX_ATTACHMENT_FRAME_BYTES,
  split: splitAttachment,
  explainInvalid: explainAttachmentInvalid,
  decode: decodeAttachment,
};
