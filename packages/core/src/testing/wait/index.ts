export { WAIT_FOR_TIMEOUT_MS, type WaitForOptions, waitFor, waitForValue } from './wait-for.js';
