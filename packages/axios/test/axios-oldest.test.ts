import axios from 'axios-oldest';
import { prodoAuthSuite, type AxiosModule } from './suite.js';

// The oldest axios the peerDependencies range admits (^1.2.0), installed under an npm alias.
// Older ones fail: 1.0 and 1.1 cannot resend a config whose headers are an AxiosHeaders (the
// retry), and give CommonJS consumers ESM types. The suite is typed with the current axios,
// whose `beforeRedirect` takes one more argument; published-package.test.ts checks the types
// a consumer of this version sees.
prodoAuthSuite(axios as unknown as AxiosModule, '1.2.0');
