import { browserSuite } from '@prodo-auth/adapter-suite/browser';
import { startDemo } from '../src/app.mjs';

browserSuite({ name: 'express demo', startDemo });
