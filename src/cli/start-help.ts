/** Kept apart from start-command.ts so `edge-channel --help` and `decode` do not load the server and config modules. */
export const START_HELP = `edge-channel start [--config FILE] [--mqtt-url URL] [--processes N|auto]

Runs the channel server: the listeners of every configured channel, the decode worker pool, and
the MQTT publisher. Broker: --mqtt-url, else mqtt.url (or EDGE_MQTT_URL), else (with no config
file) a broker already answering MQTT on 127.0.0.1:1883, else an embedded broker on 127.0.0.1:1883.

Options:
  --config FILE     YAML or JSON configuration, or EDGE_CONFIG (default: built-in defaults = a
                    Ruptela channel on TCP 5046; see README.md "Configuration" and
                    config.example.yaml; EDGE_MQTT_URL, EDGE_LOG_LEVEL and the other EDGE_*
                    variables listed there override the file)
  --mqtt-url URL    the MQTT broker to publish to, e.g. mqtt://127.0.0.1:1883 (over mqtt.url)
  --processes N     run the channels in N processes on the same ports, one per core with "auto"
                    (over the config key processes); above 1 needs redis_url and an external
                    broker; README.md "Every core of one box"
  --help            this text

Signals: SIGINT/SIGTERM stop accepting, finish in-flight frames (publish, then ACK), exit 0.
         SIGHUP (or saving the config file) reloads: log_level, IP lists, UDP limits and capture
         apply without a restart; other changed keys are listed in one warning as needing one;
         open connections from addresses no longer allowed are closed.
         With several processes the primary passes these on to every process, starts again one
         that dies, and exits 1 when one keeps dying.
Exit status 2: invalid configuration or a port that cannot be bound.`;
