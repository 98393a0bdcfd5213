import { IsInt, Length, Max, Min } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';

@InputType({ description: 'A file the caller is about to upload.' })
export class CreateUploadInput {
  @Field({ description: 'Its name, e.g. invoice-0042.pdf (1-200 characters; any path is dropped).' })
  @Length(1, 200)
  fileName!: string;

  @Field({ description: 'Its MIME type, e.g. image/jpeg or application/pdf; its first bytes must be of that type.' })
  @Length(3, 120)
  contentType!: string;

  @Field(() => Int, { description: 'Its exact size in bytes (at most MAX_UPLOAD_BYTES, 16 MB by default).' })
  @IsInt()
  @Min(1)
  @Max(2 ** 31 - 1)
  size!: number;
}

@ObjectType({ description: 'Where to upload an announced file: PUT its bytes to uploadUrl with these headers before expiresAt.' })
export class Upload {
  @Field(() => ID, {
    description: 'The file, to attach once uploaded (AddTicketMessageInput.fileIds, requestCompletion photoFileIds).',
  })
  fileId!: string;

  @Field({ description: 'The signed URL to PUT the bytes to: the API’s own, or the S3 bucket’s presigned URL.' })
  uploadUrl!: string;

  @Field({ description: 'Always PUT.' })
  method!: string;

  @Field(() => GraphQLJSONObject, { description: 'Headers the PUT must carry (Content-Type, Content-Length).' })
  headers!: Record<string, string>;

  @Field({ description: 'Until when the URL takes the bytes.' })
  expiresAt!: Date;
}
