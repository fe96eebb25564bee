import { DataType, ResourceDomain } from './data-type.js';
import { DataType as DataTypePb } from './gen/streamsvc/message/v1/schema.js';
import {
  MessageType as MessageTypePb,
  ResourceDomain as ResourceDomainPb,
} from './gen/streamsvc/message/v1/envelope.js';
import { MessageType } from './message-type.js';

// The TypeScript const objects are the API; the proto enums document the same numbers for other
// languages. These tests keep the two from drifting apart.

/** `MESSAGE_TYPE_CREATE_COLLECTION` → `CreateCollection` given the prefix `MESSAGE_TYPE_`. */
function pascal(protoName: string, prefix: string): string {
  return protoName
    .slice(prefix.length)
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function withoutUnspecified(e: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(e)
      .filter(([k]) => !k.endsWith('_UNSPECIFIED'))
      .map(([k, v]) => [pascal(k, prefix), v]),
  );
}

describe('proto enums and TypeScript const objects', () => {
  it('agree on every MessageType name and number', () => {
    expect(withoutUnspecified(MessageTypePb, 'MESSAGE_TYPE_')).toEqual(MessageType);
  });

  it('agree on every DataType name and number', () => {
    expect(withoutUnspecified(DataTypePb, 'DATA_TYPE_')).toEqual(DataType);
  });

  it('agree on every ResourceDomain name and number', () => {
    expect(withoutUnspecified(ResourceDomainPb, 'RESOURCE_DOMAIN_')).toEqual(ResourceDomain);
  });
});
