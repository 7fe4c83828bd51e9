import { packageBuildConfig } from '../../tsdown.shared.ts';

// The library, and the `prodo-auth-mock` CLI (package.json "bin") as a second entry.
export default packageBuildConfig(['src/index.ts', 'src/cli.ts']);
