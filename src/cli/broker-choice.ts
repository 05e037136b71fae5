import type { EdgeConfig } from '../config/schema.js';
import { EdgeError } from '../errors.js';
import { probeMqttBroker, type ProbeResult } from '../mqtt/broker-probe.js';

/**
 * Which broker `edge-channel start` uses:
 *   1. `--mqtt-url URL` always wins (over the config file too);
 *   2. a configured `mqtt.url` (file or environment) is used as it is;
 *   3. with neither and no config file, a broker already listening where the embedded one would
 *      (127.0.0.1:1883 by default) is used when it accepts an MQTT CONNECT: on a machine that runs
 *      Mosquitto, `npm start` just works instead of failing on a taken port;
 *   4. otherwise the embedded broker starts.
 * Returns the config to run and one line saying what was chosen and why (null: nothing to say).
 */
const BROKER_URL = /^(mqtts?|tcp|ssl|wss?):\/\/[^\s]+$/;

export interface BrokerChoice {
  config: EdgeConfig;
  note: string | null;
}

export async function chooseBroker(config: EdgeConfig, o: { mqttUrlFlag?: string | undefined; configFile?: string | undefined; probe?: typeof probeMqttBroker }): Promise<BrokerChoice> {
  if (o.mqttUrlFlag !== undefined) {
    if (!BROKER_URL.test(o.mqttUrlFlag)) throw new EdgeError('EDGE_CLI_USAGE', `--mqtt-url: expected a broker URL such as mqtt://127.0.0.1:1883, got ${JSON.stringify(o.mqttUrlFlag)}`);
    return { config: withUrl(config, o.mqttUrlFlag), note: `using the MQTT broker ${o.mqttUrlFlag} (--mqtt-url)` };
  }
  if (config.mqtt.url || o.configFile) return { config, note: null };
  const { host, port } = config.mqtt.embedded;
  if (port === 0) return { config, note: null };
  const r: ProbeResult = await (o.probe ?? probeMqttBroker)(host, port);
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (r.answer === 'accepted') {
    return {
      config: withUrl(config, `mqtt://${at}`),
      note: `an MQTT broker already listens on ${at} and accepted a CONNECT: using it instead of starting the embedded broker (--mqtt-url or a config file choose another)`,
    };
  }
  if (r.answer === 'refused') return { config, note: `something on ${at} speaks MQTT but refused us (${r.reason}); trying the embedded broker there` };
  if (r.answer === 'absent') return { config, note: null }; // nothing there: the embedded broker takes the port
  return { config, note: `${at} is taken by something that is not a usable MQTT broker (${r.reason}); trying the embedded broker there` };
}

function withUrl(config: EdgeConfig, url: string): EdgeConfig {
  return { ...config, mqtt: { ...config.mqtt, url } };
}
