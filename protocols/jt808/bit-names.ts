/**
 * Names of the 0x0200 alarm and status bits (data only). Bit meanings follow the JT/T 808-2013
 * tables (alarm flag table 24, status table 25), as the open-source codecs the reference cites
 * transcribe them; reserved bits (alarm 15–17, status 6–7 and 22–31) get no name and stay
 * visible in `alarm.flags` / `status.flags`. Every named bit is published on every message
 * (true or false) so the last-known state of each flag is always current.
 */
export const ALARM_BITS: readonly (readonly [bit: number, name: string])[] = [
  [0, 'alarm.emergency.status'],
  [1, 'alarm.overspeed.status'],
  [2, 'alarm.fatigue.status'],
  [3, 'alarm.danger.warning.status'],
  [4, 'alarm.gnss.fault.status'],
  [5, 'alarm.gnss.antenna.disconnected.status'],
  [6, 'alarm.gnss.antenna.short.status'],
  [7, 'alarm.power.low.status'],
  [8, 'alarm.power.off.status'],
  [9, 'alarm.display.fault.status'],
  [10, 'alarm.tts.fault.status'],
  [11, 'alarm.camera.fault.status'],
  [12, 'alarm.ic.card.fault.status'],
  [13, 'alarm.overspeed.warning.status'],
  [14, 'alarm.fatigue.warning.status'],
  [18, 'alarm.driving.time.exceeded.status'],
  [19, 'alarm.parking.overtime.status'],
  [20, 'alarm.geofence.area.status'],
  [21, 'alarm.geofence.route.status'],
  [22, 'alarm.route.time.status'],
  [23, 'alarm.route.deviation.status'],
  [24, 'alarm.vss.fault.status'],
  [25, 'alarm.fuel.abnormal.status'],
  [26, 'alarm.theft.status'],
  [27, 'alarm.ignition.illegal.status'],
  [28, 'alarm.movement.illegal.status'],
  [29, 'alarm.collision.status'],
  [30, 'alarm.rollover.status'],
  [31, 'alarm.door.illegal.status'],
];

/** Status bits published as booleans. Bits 2/3 (south/west) sign the coordinates; bits 8–9 are `vehicle.load.enum`. */
export const STATUS_BITS: readonly (readonly [bit: number, name: string])[] = [
  [0, 'engine.ignition.status'],
  [1, 'position.valid'],
  [4, 'vehicle.out_of_service.status'],
  [5, 'position.encrypted.status'],
  [10, 'fuel.circuit.cut.status'],
  [11, 'electric.circuit.cut.status'],
  [12, 'door.locked.status'],
  [13, 'door.1.open.status'],
  [14, 'door.2.open.status'],
  [15, 'door.3.open.status'],
  [16, 'door.4.open.status'],
  [17, 'door.5.open.status'],
  [18, 'gnss.gps.status'],
  [19, 'gnss.beidou.status'],
  [20, 'gnss.glonass.status'],
  [21, 'gnss.galileo.status'],
];

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
