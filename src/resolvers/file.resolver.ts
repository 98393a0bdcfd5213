import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Attachment } from '../entities/ticket-message.entity';
import { Role, STAFF_ROLES } from '../entities/user.entity';
import type { AuthedContext } from '../schema/context';
import { CreateUploadInput, Upload } from '../schema/file.types';

@Resolver(() => Attachment)
export class FileResolver {
  @Authorized(...STAFF_ROLES, Role.CUSTOMER)
  @Mutation(() => Upload, {
    description:
      'Announces a file to upload (type and size checked: BAD_USER_INPUT past MAX_UPLOAD_BYTES or of a type not accepted) and answers where to PUT it. The upload answers 413 past the announced size, 415 when the bytes are not the announced type.',
  })
  async createUpload(
    @Arg('input', () => CreateUploadInput, { description: 'The file.' }) input: CreateUploadInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Upload> {
    const ticket = await services.files.announce(principal, input);
    return {
      fileId: ticket.file.id,
      uploadUrl: ticket.uploadUrl,
      method: 'PUT',
      headers: ticket.headers,
      expiresAt: ticket.expiresAt,
    };
  }

  @FieldResolver(() => String, {
    description:
      'Where to download it: for a stored file a link signed for you, working for FILE_LINK_TTL_SECONDS (5 minutes by default; ask again for a new one); otherwise the URL it was given with.',
  })
  url(@Root() attachment: Attachment, @Ctx() { principal, services }: AuthedContext): string {
    return attachment.fileId ? services.files.link(principal, attachment.fileId) : attachment.url;
  }
}
