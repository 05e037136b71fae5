/** VuIdentification, SensorPaired and VuCalibrationRecord (Appendix 1), Gen1 layouts with the Gen2 card-number width. */
import { extendedSerialNumber, fullCardNumber, ia5, name, timeReal, vrn } from './primitives.js';
import type { DddReader } from './reader.js';
import type { VuCtx } from './vu-records.js';
import type { VuCalibration, VuTechnicalData } from './vu-types.js';

export function vuIdentification(r: DddReader, c: VuCtx): NonNullable<VuTechnicalData['vuIdentification']> {
  return {
    manufacturerName: name(r, 'VU manufacturer name', c.sink),
    manufacturerAddress: name(r, 'VU manufacturer address', c.sink),
    partNumber: ia5(r, 16, 'VU part number'),
    serialNumber: extendedSerialNumber(r, 'VU serial number'),
    softwareVersion: ia5(r, 4, 'VU software version'),
    softwareInstallation: timeReal(r, 'VU software installation date'),
    manufacturingDate: timeReal(r, 'VU manufacturing date'),
    approvalNumber: ia5(r, c.gen2 ? 16 : 8, 'VU approval number'),
  };
}

export function sensorPaired(r: DddReader, c: VuCtx): NonNullable<VuTechnicalData['sensorPaired']> {
  return { serialNumber: extendedSerialNumber(r, 'sensor serial number'), approvalNumber: ia5(r, c.gen2 ? 16 : 8, 'sensor approval number'), firstPairing: timeReal(r, 'sensor first pairing') };
}

export function calibration(r: DddReader, c: VuCtx): VuCalibration {
  return {
    purpose: r.u8('calibration purpose'),
    workshopName: name(r, 'workshop name', c.sink),
    workshopAddress: name(r, 'workshop address', c.sink),
    workshopCard: fullCardNumber(r, 'workshop card', c.gen2),
    workshopCardExpiry: timeReal(r, 'workshop card expiry'),
    vin: ia5(r, 17, 'VIN'),
    vehicle: vrn(r, 'vehicle', c.sink),
    wVehicleCharacteristicConstant: r.u16('w constant'),
    kConstantOfRecordingEquipment: r.u16('k constant'),
    lTyreCircumference: r.u16('tyre circumference'),
    tyreSize: ia5(r, 15, 'tyre size'),
    authorisedSpeed: r.u8('authorised speed'),
    oldOdometer: r.u24('old odometer'),
    newOdometer: r.u24('new odometer'),
    oldTime: timeReal(r, 'old time'),
    newTime: timeReal(r, 'new time'),
    nextCalibrationDate: timeReal(r, 'next calibration date'),
  };
}
