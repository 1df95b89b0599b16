export {
  comparePhone,
  digitsOf,
  formatPhone,
  type ParsePhoneOptions,
  type PhoneMatchQuality,
  type PhoneNumber,
  parsePhone,
  phoneSearchVariants,
} from './phone-number.js';
