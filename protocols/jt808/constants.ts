/**
 * JT/T 808 wire constants: message ids (JT/T 808-2013/2019, JT/T 1078-2016 additions), header
 * sizes, limits and the protocol options with their defaults. Ids are named after the standard's
 * message names (as transcribed by Traccar, go-jt808 and SmallChi/JT808; README.md lists the sources).
 */

/** Frame delimiter and escape byte (`7D 02` = 7E, `7D 01` = 7D inside a frame). */
export const DELIM = 0x7e;
export const ESC = 0x7d;

/** Message body length field: attr bits 0–9, so at most 1023 bytes. */
export const MAX_BODY = 1023;
/** Header: 12 bytes (2013) or 17 bytes (2019), plus 4 when sub-packaged. */
export const HEADER_2013 = 12;
export const HEADER_2019 = 17;
export const SUBPACKAGE_FIELDS = 4;
/** Largest un-escaped frame: delimiters + 2019 header + sub-package fields + body + check byte. */
export const MAX_UNESCAPED = 2 + HEADER_2019 + SUBPACKAGE_FIELDS + MAX_BODY + 1;
/** Largest wire frame: every interior byte escaped to two bytes. */
export const MAX_FRAME_BYTES = 2 + 2 * (MAX_UNESCAPED - 2);
/**
 * Smallest wire frame: delimiters + 2013 header + check byte. Shorter candidates between two 7E
 * are treated as a lost delimiter (resync), not as frames.
 */
export const MIN_FRAME_BYTES = 2 + HEADER_2013 + 1;

/** attr bits (JT/T 808-2013 §4.4.3, 2019 adds bit 14). */
export const ATTR_BODY_LEN_MASK = 0x03ff;
export const ATTR_ENCRYPTION_MASK = 0x1c00;
export const ATTR_SUBPACKAGED = 0x2000;
export const ATTR_VERSION_2019 = 0x4000;

export const MSG = {
  // terminal → platform
  terminalGeneralResponse: 0x0001,
  heartbeat: 0x0002,
  logout: 0x0003,
  registration: 0x0100,
  authentication: 0x0102,
  parameterQueryResponse: 0x0104,
  location: 0x0200,
  batchLocation: 0x0704,
  multimediaEvent: 0x0800,
  multimediaData: 0x0801,
  photoResponse: 0x0805,
  recordingList: 0x1205, // JT/T 1078 answer to 0x9205
  driverIdentity: 0x0702,
  avCapabilities: 0x1003, // JT/T 1078 answer to 0x9003
  // vendor e-lock location reports (JT701-style); header with a 1-byte serial (elock.ts)
  elockLocation: 0x5501,
  elockLocationBlind: 0x5502,
  // platform → terminal
  platformGeneralResponse: 0x8001,
  registrationResponse: 0x8100,
  setParameters: 0x8103,
  queryParameters: 0x8104,
  textMessage: 0x8300,
  multimediaDataResponse: 0x8800,
  resendRequest: 0x8003, // platform asks for sub-packages again (JT/T 808-2013 §8.10)
  takePhoto: 0x8801,
  liveVideoRequest: 0x9101, // JT/T 1078
  liveVideoControl: 0x9102, // JT/T 1078
  playbackRequest: 0x9201, // JT/T 1078
  queryRecordings: 0x9205, // JT/T 1078
  // alarm attachment upload (Subiao T/JSATL12), attachments/
  attachmentList: 0x1210,
  attachmentInfo: 0x1211,
  attachmentDone: 0x1212,
  attachmentUploadRequest: 0x9208,
  attachmentUploadResult: 0x9212,
} as const;

/** Names for warnings about messages this module does not decode (ids seen in the fixtures and common ones). */
export const MSG_NAMES: Readonly<Record<number, string>> = {
  0x0107: 'terminal attribute response',
  0x0210: 'vendor location extension',
  0x0701: 'electronic waybill',
  0x0702: 'driver identity report',
  0x0900: 'uplink transparent data',
  0x0901: 'data compression report',
  0x1003: 'audio/video capabilities',
  0x1007: 'vendor message 0x1007',
  0x1206: 'file upload done',
  0x1210: 'alarm attachment list',
  0x1211: 'alarm attachment info',
  0x1212: 'alarm attachment upload done',
  0x1300: 'vendor message 0x1300',
  0x5501: 'vendor e-lock message (1-byte serial)',
  0x5502: 'vendor e-lock message (1-byte serial)',
  0x6006: 'vendor message 0x6006',
};

/** 0x8001 / 0x0001 result byte: 0 ok; 1 failure (sent for an authentication whose code does not match). */
export const RESULT_OK = 0;
export const RESULT_FAIL = 1;

/** Protocol options (channel `options`), with their defaults. README.md "Options" documents them. */
export interface Jt808Options {
  /** Zone of the BCD times the device sends, minutes east of UTC. The standard says GMT+8. */
  timezone_offset_minutes: number;
  /** `active_safety` decodes the Subiao items 0x64–0x67 and 0x70; `standard` keeps them raw. */
  device_profile: 'standard' | 'active_safety';
  /** Accept a frame whose check byte is wrong (a warning instead of an error). For replaying hand-edited vectors. */
  lenient_check: boolean;
  /**
   * `issued`: 0x8100 carries a random code the runtime stores per terminal, 0x0102 is checked against it.
   * `derived`: the code is a hash of the ident and every authentication is acknowledged (replaying recorded sessions).
   */
  auth_code: 'issued' | 'derived' | 'accept';
  /** The name for `device_profile: active_safety` (either enables the items and the attachment upload). */
  active_safety: boolean;
  /** Width of the Subiao alarm identification (regional variant, attachments/variants.ts). */
  alarm_identification_bytes: 16 | 32 | 38 | 39 | 40;
}

export const DEFAULT_OPTIONS: Readonly<Jt808Options> = Object.freeze({
  timezone_offset_minutes: 480,
  device_profile: 'standard',
  lenient_check: false,
  auth_code: 'issued',
  active_safety: false,
  alarm_identification_bytes: 16,
});
