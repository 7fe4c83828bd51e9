import axios from 'axios';
import { prodoAuthSuite } from './suite.js';

// The newest axios 1.x, pinned in devDependencies.
prodoAuthSuite(axios, '1.21.1');
