import { loadProtocols } from '../src/protocol/registry.js';
import { registerConformance } from './support/conformance.js';

// One conformance run per registered protocol: adding protocols/<id>/ is enough to be checked.
const protocols = await loadProtocols();
for (const proto of protocols.values()) registerConformance(proto);
