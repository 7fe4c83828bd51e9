/**
 * @prodo-auth/mock-server: local simulations of the Prodoscore, Bio-Prodict, Procurios and
 * Petrosoft auth servers, each with a protected sample API and fault injection.
 * @packageDocumentation
 */
export type { FaultControl, FaultOptions } from './faults.js';
export { VENDORS, type MockServerOptions, type Vendor } from './options.js';
export { runCli, type CliIo } from './run-cli.js';
export { startMockServer, type MockServer, type MockServerStats, type VendorCredentials } from './server.js';
export type { BioProdictCredentials } from './vendors/bio-prodict.js';
export type { PetrosoftCredentials } from './vendors/petrosoft.js';
export type { ProcuriosCredentials } from './vendors/procurios.js';
export type { ProdoscoreCredentials } from './vendors/prodoscore.js';
export type { GrantLabel } from './vendors/vendor.js';
