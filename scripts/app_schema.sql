-- The application's own tables, as its ORM (Drizzle, Next.js) creates them.
-- The package never creates or drops these: the demo and the tests run this file first.
CREATE TABLE IF NOT EXISTS public."user" (
  id text PRIMARY KEY NOT NULL,
  email varchar(64) NOT NULL,
  name text,
  "createdAt" timestamp NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public."conversationSessions" (
  id text PRIMARY KEY NOT NULL,
  "userId" text NOT NULL,
  agent text NOT NULL,
  title text,
  "createdAt" timestamp NOT NULL DEFAULT now(),
  "updatedAt" timestamp NOT NULL DEFAULT now(),
  CONSTRAINT "conversationSessions_userId_user_id_fk" FOREIGN KEY ("userId")
    REFERENCES public."user"(id) ON DELETE CASCADE ON UPDATE NO ACTION
);
