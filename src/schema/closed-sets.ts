import { registerEnumType } from 'type-graphql';
import { PersonMatch } from '../services/directory/people-import.service';

/*
 * Closed sets that were strings in the schema. Their values are the lower-case words the
 * services use (and REST clients send), so only the GraphQL side changes: it reads and
 * writes the upper-case names. Fields are typed `${Enum}` so services keep their literals.
 */

export enum ViewerKind {
  STAFF = 'staff',
  CUSTOMER = 'customer',
}
registerEnumType(ViewerKind, {
  name: 'ViewerKind',
  description: 'Who is signed in.',
  valuesConfig: { STAFF: { description: 'A staff user (agent, admin...).' }, CUSTOMER: { description: 'A customer (contact).' } },
});

registerEnumType(PersonMatch, {
  name: 'PersonMatch',
  description: 'How an import found an existing person.',
  valuesConfig: {
    EXTERNAL_ID: { description: 'By their id in the other system.' },
    PHONE: { description: 'By phone number (normalised to E.164).' },
    EMAIL: { description: 'By e-mail address (case-insensitive).' },
  },
});
export { PersonMatch };

export enum PersonKind {
  CONTACT = 'contact',
  USER = 'user',
}
registerEnumType(PersonKind, {
  name: 'PersonKind',
  description: 'A customer or a staff user.',
  valuesConfig: { CONTACT: { description: 'A customer.' }, USER: { description: 'A staff user.' } },
});

export enum EventSubjectType {
  CONTACT = 'contact',
  USER = 'user',
  RECORD = 'record',
}
registerEnumType(EventSubjectType, {
  name: 'EventSubjectType',
  description: 'What a published event is about.',
  valuesConfig: {
    CONTACT: { description: 'A customer.' },
    USER: { description: 'A staff user.' },
    RECORD: { description: 'A business record (invoice, booking, service job...).' },
  },
});

export enum RuleSubjectType {
  TICKET = 'ticket',
  CONTACT = 'contact',
  BUSINESS_RECORD = 'business_record',
  USER = 'user',
}
registerEnumType(RuleSubjectType, {
  name: 'RuleSubjectType',
  description: 'What a manual run or a dry run is about.',
  valuesConfig: {
    TICKET: { description: 'A ticket.' },
    CONTACT: { description: 'A customer.' },
    BUSINESS_RECORD: { description: 'A business record.' },
    USER: { description: 'A staff user.' },
  },
});

export enum RuleTestMessageStatus {
  QUEUED = 'queued',
  CANCELLED = 'cancelled',
}
registerEnumType(RuleTestMessageStatus, {
  name: 'RuleTestMessageStatus',
  description: 'What would become of a message a dry run rendered.',
  valuesConfig: {
    QUEUED: { description: 'It would be queued for sending.' },
    CANCELLED: { description: 'It would be cancelled: the recipient opted out of the channel.' },
  },
});
