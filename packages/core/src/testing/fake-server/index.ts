export { FaultQueue, type FaultTimes } from './fault-queue.js';
export { delay, Latency } from './latency.js';
export { type FakeHttpServer, type ListenFakeServerOptions, listenFakeServer } from './listen.js';
export { RequestLog } from './request-log.js';
