/** Field types the fake knows, close to Salesforce's describe `type` values. */
export type FieldType =
  | 'id'
  | 'string'
  | 'phone'
  | 'email'
  | 'textarea'
  | 'picklist'
  | 'reference'
  | 'date'
  | 'datetime'
  | 'boolean'
  | 'int';

/** One field of an sObject in the fake. */
export interface FieldDef {
  readonly type: FieldType;
  /** Objects a reference field points to. */
  readonly referenceTo?: readonly string[];
  /** Relationship name used in `Owner.Name`-style paths. */
  readonly relationshipName?: string;
  /** Required on insert. */
  readonly required?: boolean;
  /** Set by the platform, not writable. */
  readonly readOnly?: boolean;
  /** Writable on create only (describe: `createable` true, `updateable` false), like Task.TaskSubtype. */
  readonly createOnly?: boolean;
  /** Restricted picklist values. */
  readonly values?: readonly string[];
  readonly length?: number;
  readonly externalId?: boolean;
  readonly unique?: boolean;
  /** Default value on insert. */
  readonly defaultValue?: string | number | boolean;
}

/** One sObject type in the fake. */
export interface ObjectDef {
  readonly keyPrefix: string;
  readonly fields: Readonly<Record<string, FieldDef>>;
}

const common: Record<string, FieldDef> = {
  Id: { type: 'id', readOnly: true },
  CreatedDate: { type: 'datetime', readOnly: true },
  LastModifiedDate: { type: 'datetime', readOnly: true },
  SystemModstamp: { type: 'datetime', readOnly: true },
  IsDeleted: { type: 'boolean', readOnly: true },
};

const owner: Record<string, FieldDef> = {
  OwnerId: { type: 'reference', referenceTo: ['User'], relationshipName: 'Owner' },
};

/** Builds the schema of the fake org; `taskExternalIdField` adds an External ID + Unique text field on Task. */
export function buildSchema(
  taskExternalIdField?: string,
  taskExternalIdUnique = true,
): Record<string, ObjectDef> {
  const task: Record<string, FieldDef> = {
    ...common,
    ...owner,
    Subject: { type: 'string', length: 255 },
    Status: {
      type: 'picklist',
      values: ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'],
      defaultValue: 'Not Started',
    },
    Priority: { type: 'picklist', values: ['High', 'Normal', 'Low'], defaultValue: 'Normal' },
    ActivityDate: { type: 'date' },
    Description: { type: 'textarea', length: 32000 },
    WhoId: { type: 'reference', referenceTo: ['Contact', 'Lead'], relationshipName: 'Who' },
    WhatId: { type: 'reference', referenceTo: ['Account'], relationshipName: 'What' },
    TaskSubtype: {
      type: 'picklist',
      // Salesforce: TaskSubtype can be set on create but is not updateable
      createOnly: true,
      values: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'],
      defaultValue: 'Task',
    },
    CallType: { type: 'picklist', values: ['Inbound', 'Outbound', 'Internal'] },
    CallDurationInSeconds: { type: 'int' },
    CallDisposition: { type: 'string', length: 255 },
    CallObject: { type: 'string', length: 255 },
    IsClosed: { type: 'boolean', readOnly: true },
  };
  if (taskExternalIdField) {
    task[taskExternalIdField] = {
      type: 'string',
      length: 255,
      externalId: true,
      unique: taskExternalIdUnique,
    };
  }
  return {
    User: {
      keyPrefix: '005',
      fields: {
        ...common,
        Name: { type: 'string', readOnly: true },
        FirstName: { type: 'string' },
        LastName: { type: 'string', required: true },
        Username: { type: 'string' },
        Email: { type: 'email' },
        IsActive: { type: 'boolean', defaultValue: true },
      },
    },
    Account: {
      keyPrefix: '001',
      fields: {
        ...common,
        ...owner,
        Name: { type: 'string', required: true, length: 255 },
        Phone: { type: 'phone', length: 40 },
        Fax: { type: 'phone', length: 40 },
        LastActivityDate: { type: 'date', readOnly: true },
      },
    },
    Contact: {
      keyPrefix: '003',
      fields: {
        ...common,
        ...owner,
        Name: { type: 'string', readOnly: true },
        FirstName: { type: 'string', length: 40 },
        LastName: { type: 'string', required: true, length: 80 },
        Email: { type: 'email' },
        Phone: { type: 'phone', length: 40 },
        MobilePhone: { type: 'phone', length: 40 },
        HomePhone: { type: 'phone', length: 40 },
        OtherPhone: { type: 'phone', length: 40 },
        AssistantPhone: { type: 'phone', length: 40 },
        Fax: { type: 'phone', length: 40 },
        AccountId: { type: 'reference', referenceTo: ['Account'], relationshipName: 'Account' },
        LastActivityDate: { type: 'date', readOnly: true },
      },
    },
    Lead: {
      keyPrefix: '00Q',
      fields: {
        ...common,
        ...owner,
        Name: { type: 'string', readOnly: true },
        FirstName: { type: 'string', length: 40 },
        LastName: { type: 'string', required: true, length: 80 },
        Company: { type: 'string', required: true, length: 255 },
        Email: { type: 'email' },
        Phone: { type: 'phone', length: 40 },
        MobilePhone: { type: 'phone', length: 40 },
        Fax: { type: 'phone', length: 40 },
        Status: {
          type: 'picklist',
          values: [
            'Open - Not Contacted',
            'Working - Contacted',
            'Closed - Converted',
            'Closed - Not Converted',
          ],
          defaultValue: 'Open - Not Contacted',
        },
        LeadSource: {
          type: 'picklist',
          values: ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'],
        },
        Description: { type: 'textarea', length: 32000 },
        IsConverted: { type: 'boolean', readOnly: true, defaultValue: false },
        LastActivityDate: { type: 'date', readOnly: true },
      },
    },
    Task: { keyPrefix: '00T', fields: task },
  };
}
