#!/usr/bin/env node
console.log('cti-runner');
