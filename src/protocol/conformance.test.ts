import { loadProtocols } from './registry.js';
import { registerConformance } from './conformance.js';

// One conformance run per registered protocol: adding protocols/<id>/ is enough to be checked.
const protocols = await loadProtocols();
for (const proto of protocols.values()) registerConformance(proto);
