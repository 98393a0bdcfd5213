import { ArrayMaxSize, IsOptional, IsUUID, Length, Matches } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { MetaTemplate, MetaTemplateCategory } from '../entities/meta-template.entity';

@ObjectType({ description: 'What a sync with Meta found.' })
export class MetaTemplateSync {
  @Field(() => [MetaTemplate], { description: 'Every template of the business account now.' })
  templates!: MetaTemplate[];

  @Field(() => Int, { description: 'Templates the product had not seen.' })
  added!: number;

  @Field(() => Int, { description: 'Templates whose status changed.' })
  changed!: number;

  @Field(() => Int, { description: 'Templates gone at Meta, removed here.' })
  removed!: number;
}

@InputType({ description: 'A product WhatsApp template to submit to Meta for review.' })
export class SubmitMetaTemplateInput {
  @Field(() => ID, { description: 'The Meta provider whose business account gets it (settings.businessAccountId).' })
  @IsUUID('all', { message: 'must be a provider id' })
  providerId!: string;

  @Field(() => ID, { description: 'The WhatsApp message template to submit.' })
  @IsUUID('all', { message: 'must be a template id' })
  templateId!: string;

  @Field(() => MetaTemplateCategory, { description: 'What Meta is asked to approve it for.' })
  category!: MetaTemplateCategory;

  @Field(() => String, {
    nullable: true,
    description: 'Meta language code (e.g. id, en_US); the template’s metaLanguage, else en_US.',
  })
  @IsOptional()
  @Matches(/^[a-z]{2,3}(_[A-Z]{2})?$/, { message: 'must be a language code such as id or en_US' })
  language?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: 'An example value for each placeholder, in order (Meta’s reviewers read them); "[name]" of each otherwise.',
  })
  @IsOptional()
  @ArrayMaxSize(50)
  @Length(1, 200, { each: true })
  examples?: string[] | null;
}
