export {
  createScenario,
  type HuntingOptions,
  type InboundAnsweredOptions,
  type InboundMissedOptions,
  type OutboundOptions,
  type QueueAbandonedOptions,
  type QueueAnsweredOptions,
  type ScenarioBuilder,
  type ScenarioCall,
  type ScenarioOptions,
  type ScenarioTiming,
} from './scenario.js';
