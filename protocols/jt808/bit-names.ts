/** Names of the JT/T 1078 alarm bits inside 0x0200 items (data only; the 0x0200 alarm/status bits are in location.ts). */

/** JT/T 1078 item 0x14 video alarm bits. */
export const VIDEO_ALARM_BITS: readonly (readonly [bit: number, name: string])[] = [
  [0, 'video.signal.loss.alarm.status'],
  [1, 'video.occlusion.alarm.status'],
  [2, 'video.storage.fault.alarm.status'],
  [3, 'video.other.fault.alarm.status'],
  [4, 'video.passenger.overload.alarm.status'],
  [5, 'video.abnormal.driving.alarm.status'],
  [6, 'video.storage.threshold.alarm.status'],
];

/** JT/T 1078 item 0x18 abnormal-driving type bits. */
export const ABNORMAL_DRIVING_BITS: readonly (readonly [bit: number, name: string])[] = [
  [0, 'driver.fatigue.status'],
  [1, 'driver.phone.status'],
  [2, 'driver.smoking.status'],
];
