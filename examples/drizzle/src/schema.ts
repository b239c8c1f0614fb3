// The application's own tables as its Drizzle schema declares them, with the three columns the package adds
// to "conversationSessions" (README, "The application keeps working"). The package never creates, drops or
// writes the application's columns; the application keeps using this schema for its own statements.
import { boolean, pgTable, text, timestamp, varchar } from "drizzle-orm/pg-core";

export const user = pgTable("user", {
  id: text("id").primaryKey().notNull(),
  email: varchar("email", { length: 64 }).notNull(),
  name: text("name"),
  createdAt: timestamp("createdAt").notNull().defaultNow(),
});

export const conversationSessions = pgTable("conversationSessions", {
  id: text("id").primaryKey().notNull(),
  userId: text("userId").notNull().references(() => user.id, { onDelete: "cascade" }),
  agent: text("agent").notNull(),
  title: text("title"),
  createdAt: timestamp("createdAt").notNull().defaultNow(),
  updatedAt: timestamp("updatedAt").notNull().defaultNow(),
  // added by pg-session-manager
  lastActivity: timestamp("lastActivity", { withTimezone: true }).notNull().defaultNow(),
  isActive: boolean("isActive").notNull().default(true),
  chatId: text("chatId"),
});
